from moviie.cli import main

main()
